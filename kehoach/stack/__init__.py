"""A team's stack on one machine: the Prefect server, the work pool and deployments, the workers
(`kehoach serve`), and the doctor that checks them after a crash (`kehoach doctor`)."""
