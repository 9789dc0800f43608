"""The Ray Serve engine (`gallery run --engine ray`) and the Serve application it deploys; needs the `ray` extra."""
