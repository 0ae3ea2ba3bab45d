"""HTTP plumbing shared by the routers: dependencies, problem rendering, request limits."""
