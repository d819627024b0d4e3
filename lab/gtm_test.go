package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The GTM scenario's policy: failover from primary to secondary, both real
// HTTP servers in the client namespace, checked every second.
const (
	gtmPolicy       = "www-failover"
	gtmRecord       = "www"
	gtmName         = gtmRecord + "." + labZone
	gtmPrimaryIP    = labNet + "201"
	gtmSecondaryIP  = labNet + "202"
	gtmCheckPort    = 8081
	gtmInterval     = time.Second
	gtmThreshold    = 2
	gtmHealthyThres = 2
	// gtmQueryID is the message ID of the query sent to every node to
	// compare their answers byte for byte.
	gtmQueryID = 0x5253
)

// Bounds from the must-show list: interval × threshold + 2 s to leave an
// endpoint, healthy_threshold × interval + 2 s to come back.
var (
	gtmDownBound = gtmInterval*gtmThreshold + 2*time.Second
	gtmUpBound   = gtmInterval*gtmHealthyThres + 2*time.Second
)

// TestGTM runs a failover policy over two real HTTP endpoints on a
// three-node lab and cuts nodes off from the primary endpoint with
// nftables in their own namespaces.
//
// Invariants:
//  1. both endpoints become healthy in the committed verdict on every
//     node, and every node's own observation of both is healthy; every node answers the policy's name with the primary; the same
//     query (same message ID, same source address and port) gets a
//     byte-identical reply from each node;
//  2. one node alone (the leader, which commits the verdicts) cannot reach
//     the primary: its own observation turns unhealthy while the other two
//     stay healthy, and for the next 3 × interval, polled continuously, the
//     committed verdict on every node stays healthy and every node keeps
//     answering the primary;
//  3. a second node cannot reach it either (a majority): within
//     interval × threshold + 2 s of the second rule being in place the
//     committed verdict is unhealthy on every node and every node answers
//     the secondary, while the third node still observes the primary
//     healthy (a majority flipped it, not unanimity); replies identical;
//  4. the rules removed, the verdict comes back to healthy and every node
//     answers the primary again (failback);
//  5. once every node observes the primary healthy again, its HTTP server
//     is stopped (every node loses it): every node answers the secondary
//     within interval × threshold + 2 s; once every node's own view of it
//     is unhealthy, it is started again: every node answers the primary
//     within healthy_threshold × interval + 2 s, and not before a majority
//     of nodes had made healthy_threshold requests to it; replies
//     identical.
//
// The nftables tables and the HTTP servers go in cleanup, also on failure.
func TestGTM(t *testing.T) {
	l := newLab(t, labOptions{nodes: 3})
	primary := startEndpoint(t, l, gtmPrimaryIP, gtmCheckPort)
	startEndpoint(t, l, gtmSecondaryIP, gtmCheckPort)
	t.Cleanup(func() { l.unblockEndpoints(t.Error) })
	q := newDNSClient(t, l)
	const scenario = "GTM failover, 3 nodes"

	leader := l.waitLeader(10*time.Second, l.nodes, nil)
	policy := map[string]any{
		"name": gtmPolicy, "zone": labZone, "record": gtmRecord, "type": "failover", "ttl": 5,
		"endpoints": []map[string]any{
			{"id": "primary", "address": gtmPrimaryIP, "priority": 1},
			{"id": "secondary", "address": gtmSecondaryIP, "priority": 2},
		},
		"health_check": map[string]any{
			"type": "http", "port": gtmCheckPort, "path": "/",
			"interval": gtmInterval.String(), "timeout": "500ms",
			"threshold": gtmThreshold, "healthy_threshold": gtmHealthyThres,
		},
	}
	if _, _, err := leader.call("PUT", "/api/v1/policies/"+gtmPolicy, policy, 5*time.Second); err != nil {
		t.Fatalf("creating the policy: %v", err)
	}

	// 1. Both endpoints healthy everywhere; the primary answers; replies agree.
	eventually(t, 20*time.Second, "both endpoints healthy in the committed verdict on every node", func() (bool, string) {
		return l.committedEverywhere(map[string]string{"primary": "healthy", "secondary": "healthy"})
	})
	// Every node's own probes see both healthy: the health API shows each
	// node's observation beside the verdict (steps 2 and 3 rely on it).
	l.waitObserved(t, leader, "primary", "healthy")
	l.waitObserved(t, leader, "secondary", "healthy")
	eventually(t, 5*time.Second, "every node answers "+gtmName+" with the primary", func() (bool, string) {
		return q.allAnswer(gtmName, gtmPrimaryIP)
	})
	q.identical(t, gtmName, "both healthy")

	// 2. The leader alone cannot reach the primary: no change.
	alone := leader
	others := l.others(alone)
	second, third := others[0], others[1]
	blockedAlone := l.blockEndpoint(alone, gtmPrimaryIP)
	eventually(t, 15*time.Second, alone.id+"'s own observation of primary unhealthy", func() (bool, string) {
		h, err := third.policyHealth("")
		if err != nil {
			return false, err.Error()
		}
		return h.observation("primary", alone.id) == "unhealthy", h.String()
	})
	t.Logf("%s observes the primary unhealthy %v after its rule", alone.id, time.Since(blockedAlone).Round(time.Millisecond))
	if h, err := third.policyHealth(""); err != nil {
		t.Fatal(err)
	} else {
		for _, n := range others {
			if s := h.observation("primary", n.id); s != "healthy" {
				t.Fatalf("%s, which still reaches the primary, observes it %q: %s", n.id, s, h)
			}
		}
	}
	window := 3 * gtmInterval
	held, missed := l.holdsFor(t, window, "one node cut off from the primary", func() (string, error) {
		ok, detail, hs, err := l.committed(map[string]string{"primary": "healthy"})
		if err != nil || !ok {
			return detail, err
		}
		// The window tests what it claims only while the cut-off node
		// keeps saying unhealthy.
		switch o := hs[third.id].observation("primary", alone.id); o {
		case "unhealthy":
		case "":
			return "", fmt.Errorf("no observation of %s: %s", alone.id, hs[third.id])
		default:
			return fmt.Sprintf("%s's own observation of the primary is %s again: %s", alone.id, o, hs[third.id]), nil
		}
		ok, detail, err = q.answers(gtmName, gtmPrimaryIP)
		if err != nil || !ok {
			return detail, err
		}
		return "", nil
	})
	t.Logf("for %v after %s alone lost the primary: verdict healthy and answer %s on every node (%d polls held, %d without a reply)",
		window, alone.id, gtmPrimaryIP, held, missed)

	// 3. A second node loses it too: a majority flips the verdict.
	cut := l.blockEndpoint(second, gtmPrimaryIP)
	flipped := l.timeAnswer(q, gtmPrimaryIP, gtmSecondaryIP, 15*time.Second)
	if flipped.IsZero() {
		t.Fatalf("the nodes did not all answer %s within 15 s of %s and %s losing the primary", gtmSecondaryIP, alone.id, second.id)
	}
	majorityFailover := flipped.Sub(cut)
	t.Logf("majority (%s, %s) cut off from the primary: every node answers the secondary %v after the second rule (bound %v)",
		alone.id, second.id, majorityFailover.Round(time.Millisecond), gtmDownBound)
	if majorityFailover > gtmDownBound {
		t.Errorf("failover after a majority lost the primary took %v, want ≤ %v", majorityFailover.Round(time.Millisecond), gtmDownBound)
	}
	eventually(t, 2*time.Second, "primary unhealthy in the committed verdict on every node", func() (bool, string) {
		return l.committedEverywhere(map[string]string{"primary": "unhealthy", "secondary": "healthy"})
	})
	if h, err := third.policyHealth(""); err != nil {
		t.Fatal(err)
	} else if s := h.observation("primary", third.id); s != "healthy" {
		t.Errorf("%s, which still reaches the primary, observes it %q (the flip should be by a majority, not all): %s", third.id, s, h)
	}
	q.identical(t, gtmName, "majority cut off")

	// 4. Heal: failback.
	healed := l.unblockEndpoints(t.Fatal)
	t.Log("endpoint rules removed")
	back := l.timeAnswer(q, gtmSecondaryIP, gtmPrimaryIP, 15*time.Second)
	if back.IsZero() {
		t.Fatalf("the nodes did not all answer %s again within 15 s of the rules' removal", gtmPrimaryIP)
	}
	healFailback := back.Sub(healed)
	t.Logf("rules removed: every node answers the primary again %v later", healFailback.Round(time.Millisecond))
	eventually(t, 2*time.Second, "primary healthy in the committed verdict on every node", func() (bool, string) {
		return l.committedEverywhere(map[string]string{"primary": "healthy", "secondary": "healthy"})
	})

	// 5. The primary itself stops, then starts again. Every node's own view
	// is healthy first, so that leaving needs threshold failures on a
	// majority.
	l.waitObserved(t, leader, "primary", "healthy")
	stopped := primary.stop()
	t.Logf("primary HTTP server %s stopped", primary.addr())
	failedOver := l.timeAnswer(q, gtmPrimaryIP, gtmSecondaryIP, 15*time.Second)
	if failedOver.IsZero() {
		t.Fatalf("the nodes did not all answer %s within 15 s of the primary stopping", gtmSecondaryIP)
	}
	stopFailover := failedOver.Sub(stopped)
	t.Logf("primary stopped: every node answers the secondary %v later (bound %v)", stopFailover.Round(time.Millisecond), gtmDownBound)
	if stopFailover > gtmDownBound {
		t.Errorf("failover after the primary stopped took %v, want ≤ %v", stopFailover.Round(time.Millisecond), gtmDownBound)
	}
	eventually(t, 2*time.Second, "primary unhealthy in the committed verdict on every node", func() (bool, string) {
		return l.committedEverywhere(map[string]string{"primary": "unhealthy", "secondary": "healthy"})
	})
	q.identical(t, gtmName, "primary stopped")
	// A majority flipped the verdict; the restart below starts from every
	// node's own view being unhealthy, so that coming back needs
	// healthy_threshold successes on a majority of nodes.
	l.waitObserved(t, leader, "primary", "unhealthy")

	if err := primary.start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	t.Logf("primary HTTP server %s started again", primary.addr())
	var sawPrimary time.Time // when the first reply naming the primary everywhere came back
	firstAt := watch(15*time.Second, func() bool {
		ok, _ := q.allAnswer(gtmName, gtmPrimaryIP)
		if ok {
			sawPrimary = time.Now()
		}
		return ok
	})
	failedBack := <-firstAt
	if failedBack.IsZero() {
		t.Fatalf("the nodes did not all answer %s within 15 s of the primary starting again", gtmPrimaryIP)
	}
	restartFailback := failedBack.Sub(restarted)
	t.Logf("primary started: every node answers it again %v later (bound %v); requests it got per node: %v",
		restartFailback.Round(time.Millisecond), gtmUpBound, primary.hitCounts())
	if restartFailback > gtmUpBound {
		t.Errorf("failback after the primary started took %v, want ≤ %v", restartFailback.Round(time.Millisecond), gtmUpBound)
	}
	// Not before a majority had healthy_threshold successes: the server
	// logs each request when it arrives, before the node sees the reply.
	majority := len(l.nodes)/2 + 1
	if enough := primary.majorityReached(majority, gtmHealthyThres); enough.IsZero() || enough.After(sawPrimary) {
		t.Errorf("every node answered the primary at %s, before %d nodes had made %d requests to it (reached at %s; counts %v)",
			sawPrimary.Format("15:04:05.000"), majority, gtmHealthyThres, fmtTime(enough), primary.hitCounts())
	}
	eventually(t, 2*time.Second, "primary healthy in the committed verdict on every node", func() (bool, string) {
		return l.committedEverywhere(map[string]string{"primary": "healthy", "secondary": "healthy"})
	})
	q.identical(t, gtmName, "primary back")

	addFigure(scenario, "one node cut off: verdict unchanged for", window.String(), "3 × interval")
	addFigure(scenario, "majority cut off → secondary on all nodes", majorityFailover.Round(time.Millisecond).String(), "≤ "+gtmDownBound.String())
	addFigure(scenario, "cut healed → primary on all nodes", healFailback.Round(time.Millisecond).String(), "")
	addFigure(scenario, "primary stopped → secondary on all nodes", stopFailover.Round(time.Millisecond).String(), "≤ "+gtmDownBound.String())
	addFigure(scenario, "primary started → primary on all nodes", restartFailback.Round(time.Millisecond).String(), "≤ "+gtmUpBound.String())
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("15:04:05.000")
}

// timeAnswer returns when every node answered gtmName with want (the
// start of the first poll that saw it; zero after timeout). Until then
// every node must answer from or want: anything else fails the test.
func (l *Lab) timeAnswer(q *dnsClient, from, want string, timeout time.Duration) time.Time {
	l.t.Helper()
	var odd string
	at := <-watch(timeout, func() bool {
		got, err := q.a(gtmName)
		if err != nil {
			return false
		}
		all := true
		for _, n := range l.nodes {
			v := got[n.id]
			if len(v) != 1 || (v[0] != from && v[0] != want) {
				if odd == "" {
					odd = fmt.Sprintf("%s answered %v", n.id, v)
				}
			}
			all = all && len(v) == 1 && v[0] == want
		}
		return all
	})
	if odd != "" {
		l.t.Errorf("while moving from %s to %s: %s", from, want, odd)
	}
	return at
}

// holdsFor polls cond continuously for d and fails the test at the first
// poll that finds a violation (a non-empty string). It is a check over a
// window, not a wait. A poll that got no reply (an error) proves nothing
// either way: it is counted, and the check fails when fewer than half
// the polls got their replies. It returns the polls that held and missed.
func (l *Lab) holdsFor(t *testing.T, d time.Duration, what string, cond func() (string, error)) (held, missed int) {
	t.Helper()
	start := time.Now()
	end := start.Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for time.Now().Before(end) {
		at := time.Now()
		violation, err := cond()
		switch {
		case err != nil:
			missed++
			lastErr = err
		case violation != "":
			t.Fatalf("INVARIANT BROKEN (%s) at %s, %v into the window: %s", what, at.Format("15:04:05.000"), at.Sub(start).Round(time.Millisecond), violation)
		default:
			held++
		}
		<-tick.C
	}
	if missed > held {
		t.Fatalf("checking %s: %d of %d polls got no reply (last: %v)", what, missed, held+missed, lastErr)
	}
	return held, missed
}

// identical sends the same query (same id, same source address and port)
// to every node and fails unless all replies are byte-identical.
func (c *dnsClient) identical(t *testing.T, name, when string) {
	t.Helper()
	replies, err := c.raw(name, dns.TypeA, gtmQueryID)
	if err != nil {
		t.Fatalf("%s: the same query to every node: %v", when, err)
	}
	first := c.l.nodes[0]
	for _, n := range c.l.nodes[1:] {
		if !bytes.Equal(replies[n.id], replies[first.id]) {
			t.Errorf("%s: %s and %s reply differently to the same query:\n%s:\n%s\n%s:\n%s", when,
				first.id, n.id, first.id, unpackString(replies[first.id]), n.id, unpackString(replies[n.id]))
		}
	}
	m := new(dns.Msg)
	if err := m.Unpack(replies[first.id]); err == nil {
		var ans []string
		for _, rr := range m.Answer {
			ans = append(ans, rr.String())
		}
		t.Logf("%s: %d nodes, identical %d-byte replies: %s", when, len(c.l.nodes), len(replies[first.id]), strings.Join(ans, "; "))
	}
}

func unpackString(b []byte) string {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return fmt.Sprintf("(%d bytes, %v)", len(b), err)
	}
	return m.String()
}

// gtmHealth is the data of GET /api/v1/policies/{name}/health.
type gtmHealth struct {
	Name      string `json:"name"`
	Endpoints []struct {
		ID           string `json:"id"`
		Status       string `json:"status"` // the committed verdict
		Observations []struct {
			Node                string `json:"node"`
			Status              string `json:"status"`
			ConsecutiveFailures int    `json:"consecutive_failures"`
			LastError           string `json:"last_error"`
		} `json:"observations"`
	} `json:"endpoints"`
	Nodes []string `json:"nodes"`
	Error string   `json:"error"`
}

// policyHealth reads the scenario policy's health through this node; with
// consistency "stale" the verdicts are the node's own applied state, what
// its DNS answers from.
func (n *Node) policyHealth(consistency string) (gtmHealth, error) {
	var h gtmHealth
	path := "/api/v1/policies/" + url.PathEscape(gtmPolicy) + "/health"
	if consistency != "" {
		path += "?consistency=" + consistency
	}
	_, env, err := n.call("GET", path, nil, 3*time.Second)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(env.Data, &h); err != nil {
		return h, fmt.Errorf("%s: %w: %s", path, err, env.Data)
	}
	return h, nil
}

// verdict is an endpoint's committed status ("" if not listed).
func (h gtmHealth) verdict(endpoint string) string {
	for _, e := range h.Endpoints {
		if e.ID == endpoint {
			return e.Status
		}
	}
	return ""
}

// observation is one node's own status of an endpoint ("" if none).
func (h gtmHealth) observation(endpoint, node string) string {
	for _, e := range h.Endpoints {
		if e.ID != endpoint {
			continue
		}
		for _, o := range e.Observations {
			if o.Node == node {
				return o.Status
			}
		}
	}
	return ""
}

func (h gtmHealth) String() string {
	var b strings.Builder
	for _, e := range h.Endpoints {
		fmt.Fprintf(&b, "%s=%s [", e.ID, e.Status)
		for i, o := range e.Observations {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s:%s", o.Node, o.Status)
			if o.ConsecutiveFailures > 0 {
				fmt.Fprintf(&b, "(%d fails: %s)", o.ConsecutiveFailures, o.LastError)
			}
		}
		b.WriteString("] ")
	}
	if h.Error != "" {
		fmt.Fprintf(&b, "error: %s", h.Error)
	}
	return strings.TrimSpace(b.String())
}

// waitObserved waits until the health API (through via) shows every
// node's own observation of endpoint as status.
func (l *Lab) waitObserved(t *testing.T, via *Node, endpoint, status string) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("every node observes %s %s", endpoint, status), func() (bool, string) {
		h, err := via.policyHealth("")
		if err != nil {
			return false, err.Error()
		}
		for _, n := range l.nodes {
			if h.observation(endpoint, n.id) != status {
				return false, h.String()
			}
		}
		return true, ""
	})
}

// committedEverywhere reports whether every node's own applied state has
// the given verdicts (endpoint → status), with the states as detail.
func (l *Lab) committedEverywhere(want map[string]string) (bool, string) {
	ok, detail, _, err := l.committed(want)
	if err != nil {
		return false, err.Error()
	}
	return ok, detail
}

// committed is committedEverywhere with each node's health (by node ID),
// and an error when a node's API did not reply.
func (l *Lab) committed(want map[string]string) (bool, string, map[string]gtmHealth, error) {
	var parts []string
	ok := true
	hs := map[string]gtmHealth{}
	for _, n := range l.nodes {
		h, err := n.policyHealth("stale")
		if err != nil {
			return false, "", hs, fmt.Errorf("%s: %w", n.id, err)
		}
		hs[n.id] = h
		for ep, st := range want {
			if h.verdict(ep) != st {
				ok = false
			}
		}
		parts = append(parts, n.id+": "+h.String())
	}
	return ok, strings.Join(parts, " | "), hs, nil
}
