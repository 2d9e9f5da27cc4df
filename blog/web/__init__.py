"""Request plumbing: security headers, error pages, rate limits, health, request log, helpers."""
