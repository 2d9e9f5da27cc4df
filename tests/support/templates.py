"""Templates compiled once per test process instead of once per app.

Every test builds its own app, and each app's Jinja environment compiles the templates it renders
again: about a tenth of a second per app, a fifth of the suite's time. Jinja's bytecode cache (a
documented hook) keeps the compiled code between environments: a template is looked up by its name,
file and source checksum, so an edited template is compiled afresh. The code also depends on the
environment's syntax options, so environments with other options get a cache of their own.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in this process's memory."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self.store.clear()


_caches: dict[tuple[object, ...], MemoryBytecodeCache] = {}


def _compile_options(env: Environment) -> tuple[object, ...]:
    """What, besides the source, shapes the code Jinja compiles a template into."""

    def name(value: object) -> object:
        return getattr(value, "__qualname__", value) if callable(value) else value

    return (
        env.block_start_string, env.block_end_string, env.variable_start_string,
        env.variable_end_string, env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
        env.newline_sequence, env.keep_trailing_newline, tuple(sorted(env.extensions)),
        env.optimized, env.is_async, name(env.autoescape), name(env.finalize),
    )  # fmt: skip


def share_compiled_templates(env: Environment) -> None:
    """Let this environment reuse the code other environments with its options compiled."""
    env.bytecode_cache = _caches.setdefault(_compile_options(env), MemoryBytecodeCache())
