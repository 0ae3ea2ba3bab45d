"""Learning pathways: completing a set of achievements (all, or at least N) earns a pathway
credential, issued automatically and pinning each component credential by its digest."""
