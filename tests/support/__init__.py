"""Test support: live servers, the OAuth site, the browser, SMTP, databases and clients."""
