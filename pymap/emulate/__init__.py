"""The emulators of pmap: one faithful engine per format (the listing of
the default, -x and -d formats; the -X/-XX/-c table), and accelerators that
return the same result or decline.  pmap's words (headings, labels) and the
labels of its Mapping column are shared by both."""
