"""The public site: reader pages, the queries behind them, search, feeds and comment feeds."""
