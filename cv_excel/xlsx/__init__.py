"""Direct, minimal work on the xlsx package (a zip of XML parts).

Generation edits only the few parts that change in a copy of the template, so
everything the template carries (styles, images, conditional formats, print
settings, its own validations) is kept byte for byte, and it is much faster than
a load-and-save through openpyxl.
"""
