"""PyYAML's safe loading without its node graph: the same Python values, in a fraction of the
memory and time for a large directory file.

`yaml.safe_load` first builds a node (with two position marks) for every scalar of the file,
then the values from the nodes: 100,000 residents made about 1 GB of nodes and a minute of
work. Here libyaml's parser events are turned into values as they come, with PyYAML's own
resolver (which strings are booleans, numbers, null, dates) and its own constructors for
anything that is not a plain string. Whatever is less common (a merge key `<<`, an explicit
tag on a collection, a complex key, an alias to nothing, a second document) and any error go
to `yaml.safe_load` itself, so the answer and the errors are always PyYAML's.
"""

from __future__ import annotations

from sys import intern
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from models.settings import (
    MAX_ALIASES,
    MAX_DEPTH,
    UnsafeYaml,
    budget_load,
    too_deep,
    too_many_aliases,
)

# libyaml's parser when PyYAML has it (the wheels do); the same events otherwise.
SAFE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Unusual(Exception):
    """Something this reader leaves to PyYAML's full loader."""


_NO_KEY = object()


def safe_load(text: str) -> Any:
    """What `yaml.safe_load(text)` returns (or raises), within the alias and depth budget."""
    try:
        return _stream_load(text)
    except UnsafeYaml:
        raise
    except Exception:  # an unusual file or a bad one: PyYAML's own answer
        # libyaml words its errors otherwise than PyYAML's own reader ("... in this context"),
        # and a refused file is small news: read it again the slow way for PyYAML's words.
        return budget_load(text)


def _stream_load(text: str) -> Any:
    loader = SAFE_LOADER(text)
    resolver = Resolver()
    # The first characters with which a plain scalar may be something else than a string.
    implicit_starts = {key for key in resolver.yaml_implicit_resolvers if key}
    if None in resolver.yaml_implicit_resolvers:
        raise _Unusual  # a pattern for any first character: resolve() every scalar
    constructor = SafeConstructor()
    anchors: dict[str, Any] = {}
    # Open collections, innermost last; for a mapping, the key waiting for its value.
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    aliases = 0

    def add(value: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif top[1] is _NO_KEY:
            if isinstance(value, dict | list):
                raise _Unusual  # a complex key: PyYAML's own error
            # One string per distinct key, not one per row (`id`, `name`... 100,000 times).
            top[1] = intern(value) if type(value) is str else value
        else:
            container[top[1]] = value
            top[1] = _NO_KEY

    def remember(anchor: str | None, value: Any) -> None:
        if anchor is not None:
            if anchor in anchors:
                raise _Unusual  # PyYAML refuses an anchor defined twice
            anchors[anchor] = value

    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                tag = event.tag
                text = event.value
                if tag is None or tag == "!":
                    if event.implicit[0] and (not text or text[0] in implicit_starts):
                        tag = resolver.resolve(ScalarNode, text, event.implicit)
                    else:
                        tag = STR  # what resolve() answers when no pattern may match
                if tag == STR:
                    value: Any = text
                elif tag == MERGE and stack and stack[-1][1] is _NO_KEY:
                    raise _Unusual
                else:
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark)
                    value = constructor.construct_object(node, deep=True)
                remember(event.anchor, value)
                add(value)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.tag not in PLAIN_COLLECTION_TAGS:
                    raise _Unusual
                collection: Any = {} if kind is MappingStartEvent else []
                remember(event.anchor, collection)
                add(collection)
                stack.append([collection, _NO_KEY])
                if len(stack) > MAX_DEPTH:
                    raise too_deep(event.start_mark)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
            elif kind is AliasEvent:
                aliases += 1
                if aliases > MAX_ALIASES:  # a billion laughs expands when validated
                    raise too_many_aliases(event.start_mark)
                if event.anchor not in anchors:
                    raise _Unusual
                add(anchors[event.anchor])
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Unusual  # PyYAML refuses a second document: let it say so
            elif kind is StreamEndEvent:
                return root
    finally:
        loader.dispose()
