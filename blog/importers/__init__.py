"""WordPress (WXR) and Disqus in, WXR out: posts to posts/, comments to the database."""
