"""Generation of the porteur and référent workbooks from the templates."""
