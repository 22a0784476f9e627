"""The HTML report: inline SVG charts and the templates that place them."""
