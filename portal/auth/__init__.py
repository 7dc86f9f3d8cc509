"""Sign-in with a second factor, server-side sessions, roles that follow positions, the yearly terms gate.

Other features use `portal.auth.guards` (decorators, `current_account`, `current_actor`),
`portal.auth.scopes` (which org units and members an account may look at) and `portal.auth.roles.Role`.
"""
