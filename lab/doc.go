// Package lab is the L2 fault lab: it proves the VIP lease, the gratuitous
// ARP, the read-only minority and failover on real network namespaces.
//
// Every test builds its own segment: a Linux bridge inside a dedicated
// "switch" namespace (so the root namespace has no route to any lab
// address), one namespace per node and one for the client, joined to the
// bridge by veth pairs, with no uplink and no default route. Nodes run the
// real bin/resolvx (from RESOLVX_BIN, or built by TestMain) through
// `ip netns exec`; the test process talks to them only through sockets it
// opens inside the client namespace (setns on a locked OS thread), so no
// packet to a lab address ever leaves the lab.
//
// While a scenario runs, a prober in the client namespace queries the VIP
// every 20 ms and a sampler lists the VIP holders of every node namespace
// every 50 ms; every scenario asserts that no two nodes ever held the VIP
// at once.
//
// The tests need root (network namespaces, nftables). Without root they
// fail, unless RESOLVX_SKIP_PRIVILEGED=1 asks to skip them on purpose.
// RESOLVX_LAB_BENCH=1 repeats the measured faults more often; the figures
// are printed as a table at the end of the run (make lab-bench).
package lab
