"""Who is told what, in which words, over which channel: routing, templates, the outbox."""
