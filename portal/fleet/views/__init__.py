"""The fleet-wide pages: search, tamper protection, isolation, hygiene, jobs."""
