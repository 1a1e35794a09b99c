"""press: turn a Markdown manuscript into a print PDF and an EPUB 3 book."""
