package lab

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// partitionTable is the nftables table the lab adds inside node namespaces.
const partitionTable = "rxlab_partition"

// partition cuts every IPv4 packet between the two sides, with rules on
// both sides (inside each node's namespace, input and output). The client
// still reaches every node. It returns when all rules are in place.
func (l *Lab) partition(a, b []*Node) time.Time {
	l.t.Helper()
	for _, side := range [][2][]*Node{{a, b}, {b, a}} {
		for _, n := range side[0] {
			var peers []string
			for _, o := range side[1] {
				peers = append(peers, o.ip)
			}
			set := strings.Join(peers, ", ")
			rules := fmt.Sprintf(`table inet %[1]s {
	chain input { type filter hook input priority -10; policy accept; ip saddr { %[2]s } drop; }
	chain output { type filter hook output priority -10; policy accept; ip daddr { %[2]s } drop; }
}
`, partitionTable, set)
			l.nft(n, rules)
		}
	}
	at := time.Now()
	l.t.Logf("partition: %s | %s", ids(a), ids(b))
	return at
}

// heal removes every partition rule.
func (l *Lab) heal() time.Time {
	l.t.Helper()
	for _, n := range l.nodes {
		if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "list", "table", "inet", partitionTable); err != nil {
			continue // no table in this namespace
		}
		if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "delete", "table", "inet", partitionTable); err != nil {
			l.t.Fatal(err)
		}
	}
	at := time.Now()
	l.t.Log("partition healed")
	return at
}

func (l *Lab) nft(n *Node, rules string) {
	l.t.Helper()
	f := n.dir + "/partition.nft"
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		l.t.Fatal(err)
	}
	if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "-f", f); err != nil {
		l.t.Fatal(err)
	}
}

func ids(nodes []*Node) string {
	var s []string
	for _, n := range nodes {
		s = append(s, n.id)
	}
	return strings.Join(s, ",")
}
