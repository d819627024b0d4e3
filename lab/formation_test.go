package lab

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFormation: three and five nodes form through --join.
//
// Invariants: `resolvx cluster status` run on every node names the same
// leader and lists every node as a voter; the VIP is on the leader only
// (sampled every 50 ms from the first start on, never two holders) and
// every node's cluster status shows the VIP, held (vip_held) by the leader
// alone; `dig` from the client namespace at the VIP answers from the zone,
// and every node answers on its own address.
func TestFormation(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d-nodes", n), func(t *testing.T) {
			requireVIP(t)
			start := time.Now()
			l := newLab(t, labOptions{nodes: n, vip: true})
			formed := time.Since(start)

			var leader string
			for _, node := range l.nodes {
				out, err := node.cli("cluster", "status", "--json")
				if err != nil {
					t.Fatal(err)
				}
				var s clusterStatus
				if err := json.Unmarshal([]byte(out), &s); err != nil {
					t.Fatalf("%s: cluster status --json: %v: %s", node.id, err, out)
				}
				if leader == "" {
					leader = s.Leader
				}
				if s.Leader == "" || s.Leader != leader {
					t.Errorf("%s says the leader is %q, %s said %q", node.id, s.Leader, l.nodes[0].id, leader)
				}
				voters := 0
				for _, m := range s.Nodes {
					if m.Suffrage == "voter" {
						voters++
					}
				}
				if voters != n {
					t.Errorf("%s lists %d voters, want %d: %s", node.id, voters, n, out)
				}
				// "vip" is the cluster's VIP while some member holds it;
				// nodes[].vip_held says which: the leader alone.
				if s.VIP == "" {
					t.Errorf("%s: cluster status shows no VIP: %s", node.id, out)
				}
				for _, m := range s.Nodes {
					if m.VIPHeld == nil {
						t.Errorf("%s: cluster status has no vip_held for %s", node.id, m.ID)
					} else if *m.VIPHeld != (m.ID == s.Leader) {
						t.Errorf("%s: cluster status says vip_held=%v for %s, leader %s", node.id, *m.VIPHeld, m.ID, s.Leader)
					}
				}
			}
			ld := l.byID(leader)
			if ld == nil {
				t.Fatalf("no leader")
			}
			if human, err := ld.cli("cluster", "status"); err == nil {
				t.Logf("resolvx cluster status on %s:\n%s", ld.id, human)
			}

			for _, node := range l.nodes {
				l.waitAnswer(node.ip, probeName, probeValue, 5*time.Second)
			}
			l.waitVIPOn(ld, 5*time.Second)
			out, err := runCmd(10*time.Second, "ip", "netns", "exec", l.client,
				"dig", "+time=1", "+tries=3", "+short", "@"+vipIP, probeName, "A")
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(out) != probeValue {
				t.Fatalf("dig @%s %s A from the client: %q, want %s", vipIP, probeName, out, probeValue)
			}
			t.Logf("%d nodes formed in %v; leader %s holds the VIP; dig @%s %s → %s",
				n, formed.Round(time.Millisecond), ld.id, vipIP, probeName, strings.TrimSpace(out))
		})
	}
}
