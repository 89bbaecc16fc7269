"""Developer tools that run on the build machine, never in the browser."""
