"""Small counts can identify people (PRODUCT.md, "Do no harm" 5): partner-facing counts below this
are withheld, everywhere statistics leave the staff (zone statistics, trends, briefs)."""

SUPPRESS_BELOW = 3
