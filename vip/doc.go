// Package vip holds the floating service address (the VIP) as a lease.
//
// The address is installed through netlink with a kernel lifetime
// (valid_lft = preferred_lft = the lease, in whole seconds) and refreshed
// every quarter lease while the node may hold it. A holder that crashes or
// freezes stops refreshing and the kernel removes the address by itself
// when the lifetime runs out: there is never an orphaned VIP.
//
// Manager is level-triggered: on every leadership event and on a timer it
// asks its Gate whether this node may hold the VIP, then installs or
// refreshes it (announcing it with gratuitous ARP for IPv4, unsolicited
// neighbour advertisements for IPv6, on the claim and again at a low rate
// while held), or removes it at once. Release removes it for good (the
// SIGTERM path); Drop removes it now and lets the gate decide again.
//
// The package never sees Raft: the cluster package implements Gate, and the
// command wires the two. The safety of "never two holders" is split between
// them: this package promises that an address it refreshed is gone at the
// latest Config.ExpiryBound after the start of the Gate call that allowed
// the refresh; the gate lets a new holder claim only once every earlier
// holder's bound has passed.
//
// Announcing needs CAP_NET_RAW (AF_PACKET for ARP, a raw ICMPv6 socket for
// NDP); installing needs CAP_NET_ADMIN.
package vip
