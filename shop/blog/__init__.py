"""The blog: posts, topics, revisions, feeds."""
