"""Services: the use cases (submit, check, train, report) written against the ports, with no AWS in sight."""
