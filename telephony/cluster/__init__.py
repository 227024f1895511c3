"""Several `serve` workers on one PostgreSQL and one Redis (docs/architecture.md, "Scale-out").

One worker, the owner, holds a PostgreSQL advisory lock and runs the telephony (AMI, FastAGI, the
call log, the dialler); it publishes its domain events and live state on Redis. The others follow
that stream into their own bus, so their sockets get pushes and their pages read live state, and
send their commands to the owner. When the owner dies, a follower takes the lock and carries on.
"""
