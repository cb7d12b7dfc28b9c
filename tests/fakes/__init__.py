"""Local fake servers speaking third parties' real HTTP protocols."""
