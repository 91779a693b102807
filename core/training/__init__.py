"""Training: the generic loop (`loop`), per-track data and losses (`render`, `classic`), and a render
run assembled from its settings (`render_run`, with its network: `render_network`, and the scenes it
reads twice: `scene_repeats`)."""
