"""Everything that turns results into output: the privacy edge, maps, labels and
translations. The only way out toward a browser, a file, a PDF or a log."""
