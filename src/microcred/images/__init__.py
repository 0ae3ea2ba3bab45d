"""Images the service keeps and serves from its own origin: checks (:mod:`.checks`) and the
copies of achievement badge images named on other hosts (:mod:`.service`)."""
