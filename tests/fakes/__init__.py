"""Local fake HTTP servers that follow vendors' documented request/response shapes."""
