"""The periodic report sent upward (pandas, Decree 30/2020 layout). Never imports Prefect."""
