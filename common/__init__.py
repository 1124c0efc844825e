"""What several packages and deployables share and no domain owns (the database base and URLs,
start-up checks, French numbers, …); it imports none of the project's other packages."""
