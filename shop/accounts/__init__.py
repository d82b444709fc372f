"""Staff accounts: users, roles and permissions, login and logout."""
