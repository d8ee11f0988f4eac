"""The customer's portal pages for the team: agents, org chart, tasks, goals and runs."""
