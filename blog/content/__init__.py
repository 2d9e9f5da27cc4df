"""The content layer: post files in, validated and rendered posts out. No Flask here."""

from blog.content.frontmatter import PostSource, Problem, parse_post_file
from blog.content.render import RenderedPost, render_post

__all__ = ["PostSource", "Problem", "RenderedPost", "parse_post_file", "render_post"]
