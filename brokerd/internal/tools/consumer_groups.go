package tools

// kafka-consumer-groups.sh (Kafka 2.8's ConsumerGroupCommand): --list,
// --describe (--offsets, --members [--verbose], --state), --delete and
// --reset-offsets, with Kafka's column layouts.

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

var _ = register(&Tool{
	Name:    "consumer-groups",
	Summary: "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.",
	Opts: []Opt{
		optBootstrap, optCmdConfig,
		{Name: "topic", Arg: "String: topic", Multi: true, Help: "The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`."},
		{Name: "all-topics", Help: "Consider all topics assigned to a group in the `reset-offsets` process."},
		{Name: "group", Arg: "String: consumer group", Multi: true, Help: "The consumer group we wish to act on."},
		{Name: "all-groups", Help: "Apply to all consumer groups."},
		{Name: "list", Help: "List all consumer groups."},
		{Name: "describe", Help: "Describe consumer group and list offset lag (number of messages not yet processed) related to given group."},
		{Name: "delete", Help: "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group."},
		{Name: "reset-offsets", Help: "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive."},
		{Name: "offsets", Help: "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action."},
		{Name: "members", Help: "Describe members of the group."},
		{Name: "verbose", Help: "Provide additional information, if any, when describing the group (with --members: the assignment)."},
		{Name: "state", Arg: "String", Optional: true, Help: "When specified with '--describe', includes the state of the group. When specified with '--list', it displays the state of all groups, or only the groups in the given states (comma-separated)."},
		{Name: "dry-run", Help: "Only show results without executing changes on Consumer Groups."},
		{Name: "execute", Help: "Execute operation."},
		{Name: "to-earliest", Help: "Reset offsets to earliest offset."},
		{Name: "to-latest", Help: "Reset offsets to latest offset."},
		{Name: "to-current", Help: "Reset offsets to current offset."},
		{Name: "to-offset", Arg: "Long: offset", Help: "Reset offsets to a specific offset."},
		{Name: "shift-by", Arg: "Long: number-of-offsets", Help: "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative."},
		{Name: "to-datetime", Arg: "String: datetime", Help: "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'"},
		{Name: "by-duration", Arg: "String: duration", Help: "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'"},
		{Name: "timeout", Arg: "Long: timeout (ms)", Default: "5000", Help: "The timeout that can be set for some use cases."},
	},
	Run: runConsumerGroups,
})

const missing = "-"

func runConsumerGroups(e *Env, p *Parsed) error {
	actions := 0
	for _, a := range []string{"list", "describe", "delete", "reset-offsets"} {
		if p.Has(a) {
			actions++
		}
	}
	if actions != 1 {
		return usagef("Command must include exactly one action: --list, --describe, --delete, --reset-offsets")
	}
	if err := p.Require("bootstrap-server"); err != nil {
		return err
	}
	if (p.Has("describe") || p.Has("delete") || p.Has("reset-offsets")) && !p.Has("group") && !p.Has("all-groups") {
		return usagef("Option [%s] takes one of these options: [all-groups], [group]", firstOf(p, "describe", "delete", "reset-offsets"))
	}
	if _, err := loadProps(p.String("command-config")); err != nil {
		return err
	}
	if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
		return err
	}
	switch {
	case p.Has("list"):
		return listGroups(e, p)
	case p.Has("describe"):
		return describeGroups(e, p)
	case p.Has("delete"):
		return deleteGroups(e, p)
	default:
		return resetOffsets(e, p)
	}
}

func firstOf(p *Parsed, names ...string) string {
	for _, n := range names {
		if p.Has(n) {
			return n
		}
	}
	return names[0]
}

func listGroups(e *Env, p *Parsed) error {
	ctx, cancel := e.op()
	defer cancel()
	var filter []string
	if p.Has("state") && p.String("state") != "" {
		for _, s := range strings.Split(p.String("state"), ",") {
			filter = append(filter, strings.TrimSpace(s))
		}
	}
	listed, err := e.admin.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	type gs struct{ group, state string }
	var rows []gs
	for _, g := range listed.Sorted() {
		if g.ProtocolType != "consumer" && g.ProtocolType != "" {
			continue
		}
		rows = append(rows, gs{g.Group, g.State})
	}
	if !p.Has("state") {
		for _, r := range rows {
			fmt.Fprintln(e.Stdout, r.group)
		}
		return nil
	}
	// --state: the group states come from DescribeGroups when the broker's
	// ListGroups does not carry them.
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.group
	}
	if len(names) > 0 {
		ds, err := e.admin.DescribeGroups(ctx, names...)
		if err != nil {
			return fmt.Errorf("describe groups: %w", err)
		}
		for i := range rows {
			if d, ok := ds[rows[i].group]; ok && d.Err == nil {
				rows[i].state = d.State
			}
		}
	}
	w := 15
	var keep []gs
	for _, r := range rows {
		if len(filter) > 0 && !containsFold(filter, r.state) {
			continue
		}
		keep = append(keep, r)
		w = max(w, len(r.group))
	}
	fmt.Fprintf(e.Stdout, "%-*s %s\n", w, "GROUP", "STATE")
	for _, r := range keep {
		fmt.Fprintf(e.Stdout, "%-*s %s\n", w, r.group, r.state)
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// groupsOf is --group (repeatable) or --all-groups.
func groupsOf(e *Env, p *Parsed) ([]string, error) {
	if !p.Has("all-groups") {
		return p.Strings("group"), nil
	}
	ctx, cancel := e.op()
	defer cancel()
	listed, err := e.admin.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return listed.Groups(), nil
}

// offsetRow is one line of --describe --offsets.
type offsetRow struct {
	topic                      string
	partition                  int32
	hasPartition               bool
	current, end               int64 // -1: unknown
	consumerID, host, clientID string
}

func describeGroups(e *Env, p *Parsed) error {
	groups, err := groupsOf(e, p)
	if err != nil {
		return err
	}
	ctx, cancel := e.op()
	defer cancel()
	ds, err := e.admin.DescribeGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("describe groups: %w", err)
	}
	for _, g := range groups {
		d, ok := ds[g]
		if !ok {
			continue
		}
		if d.Err != nil {
			return fmt.Errorf("describe group %s: %w", g, d.Err)
		}
		switch {
		case p.Has("state"):
			if !groupExists(e.Stderr, d, 1) {
				continue
			}
			printGroupState(e.Stdout, d)
		case p.Has("members"):
			if !groupExists(e.Stderr, d, max(1, len(d.Members))) {
				continue
			}
			printMembers(e.Stdout, d, p.Has("verbose"))
		default:
			rows, err := groupOffsets(e, d)
			if err != nil {
				return err
			}
			if !groupExists(e.Stderr, d, len(rows)) {
				continue
			}
			printOffsetRows(e.Stdout, g, rows)
		}
	}
	return nil
}

// groupExists prints Kafka's notes for a dead, empty or rebalancing group
// and reports whether there are rows to print.
func groupExists(w io.Writer, d kadm.DescribedGroup, rows int) bool {
	switch d.State {
	case "Dead":
		fmt.Fprintf(w, "\nError: Consumer group '%s' does not exist.\n", d.Group)
		return false
	case "Empty":
		fmt.Fprintf(w, "\nConsumer group '%s' has no active members.\n", d.Group)
	case "PreparingRebalance", "CompletingRebalance":
		fmt.Fprintf(w, "\nWarning: Consumer group '%s' is rebalancing.\n", d.Group)
	}
	return rows > 0
}

// groupOffsets joins the members' assignments, the committed offsets and
// the log end offsets, ordered as Kafka prints them.
func groupOffsets(e *Env, d kadm.DescribedGroup) ([]offsetRow, error) {
	ctx, cancel := e.op()
	defer cancel()
	committed, err := e.admin.FetchOffsets(ctx, d.Group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", d.Group, err)
	}
	topics := map[string]bool{}
	for t := range committed {
		topics[t] = true
	}
	members := append([]kadm.DescribedGroupMember(nil), d.Members...)
	assigned := map[string]map[int32]bool{}
	nAssigned := func(m kadm.DescribedGroupMember) int {
		n := 0
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				n += len(t.Partitions)
			}
		}
		return n
	}
	sort.SliceStable(members, func(i, j int) bool { return nAssigned(members[i]) > nAssigned(members[j]) })
	for _, m := range members {
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				topics[t.Topic] = true
			}
		}
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	ends := kadm.ListedOffsets{}
	if len(names) > 0 {
		if ends, err = e.admin.ListEndOffsets(ctx, names...); err != nil {
			return nil, fmt.Errorf("list end offsets: %w", err)
		}
	}
	row := func(t string, part int32) offsetRow {
		r := offsetRow{topic: t, partition: part, hasPartition: true, current: -1, end: -1, consumerID: missing, host: missing, clientID: missing}
		if o, ok := committed.Lookup(t, part); ok && o.Err == nil && o.At >= 0 {
			r.current = o.At
		}
		if o, ok := ends.Lookup(t, part); ok && o.Err == nil {
			r.end = o.Offset
		}
		return r
	}
	var rows []offsetRow
	for _, m := range members {
		var tps []offsetRow
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				for _, part := range t.Partitions {
					r := row(t.Topic, part)
					if assigned[t.Topic] == nil {
						assigned[t.Topic] = map[int32]bool{}
					}
					assigned[t.Topic][part] = true
					tps = append(tps, r)
				}
			}
		}
		sortRows(tps)
		if len(tps) == 0 {
			tps = []offsetRow{{topic: missing, current: -1, end: -1}}
		}
		for i := range tps {
			tps[i].consumerID, tps[i].host, tps[i].clientID = m.MemberID, m.ClientHost, m.ClientID
		}
		rows = append(rows, tps...)
	}
	var rest []offsetRow
	for t, parts := range committed {
		for part := range parts {
			if !assigned[t][part] {
				rest = append(rest, row(t, part))
			}
		}
	}
	sortRows(rest)
	return append(rows, rest...), nil
}

func sortRows(r []offsetRow) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].topic != r[j].topic {
			return r[i].topic < r[j].topic
		}
		return r[i].partition < r[j].partition
	})
}

func orMissing(n int64) string {
	if n < 0 {
		return missing
	}
	return strconv.FormatInt(n, 10)
}

func printOffsetRows(w io.Writer, group string, rows []offsetRow) {
	gl, tl, cl, hl := max(15, len(group)), 15, 15, 15
	for _, r := range rows {
		tl, cl, hl = max(tl, len(r.topic)), max(cl, len(r.consumerID)), max(hl, len(r.host))
	}
	line := func(a ...string) {
		fmt.Fprintf(w, "%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s %s\n", gl, a[0], tl, a[1], a[2], a[3], a[4], a[5], cl, a[6], hl, a[7], a[8])
	}
	fmt.Fprintln(w)
	line("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range rows {
		part, lag := missing, missing
		if r.hasPartition {
			part = strconv.Itoa(int(r.partition))
		}
		if r.current >= 0 && r.end >= 0 {
			lag = strconv.FormatInt(r.end-r.current, 10)
		}
		line(group, r.topic, part, orMissing(r.current), orMissing(r.end), lag, r.consumerID, r.host, r.clientID)
	}
}

func printMembers(w io.Writer, d kadm.DescribedGroup, verbose bool) {
	gl, cl, hl, ll := max(15, len(d.Group)), 15, 15, 15
	for _, m := range d.Members {
		cl, hl, ll = max(cl, len(m.MemberID)), max(hl, len(m.ClientHost)), max(ll, len(m.ClientID))
	}
	fmt.Fprintf(w, "\n%-*s %-*s %-*s %-*s %-15s ", gl, "GROUP", cl, "CONSUMER-ID", hl, "HOST", ll, "CLIENT-ID", "#PARTITIONS")
	if verbose {
		fmt.Fprint(w, "ASSIGNMENT")
	}
	fmt.Fprintln(w)
	for _, m := range d.Members {
		n := 0
		var parts []string
		if c, ok := m.Assigned.AsConsumer(); ok {
			sort.Slice(c.Topics, func(i, j int) bool { return c.Topics[i].Topic < c.Topics[j].Topic })
			for _, t := range c.Topics {
				n += len(t.Partitions)
				ps := append([]int32(nil), t.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				parts = append(parts, t.Topic+"("+ids(ps)+")")
			}
		}
		fmt.Fprintf(w, "%-*s %-*s %-*s %-*s %-15d ", gl, d.Group, cl, m.MemberID, hl, m.ClientHost, ll, m.ClientID, n)
		if verbose {
			if len(parts) == 0 {
				fmt.Fprint(w, missing)
			}
			fmt.Fprint(w, strings.Join(parts, ","))
		}
		fmt.Fprintln(w)
	}
}

func printGroupState(w io.Writer, d kadm.DescribedGroup) {
	coordinator := fmt.Sprintf("%s:%d  (%d)", d.Coordinator.Host, d.Coordinator.Port, d.Coordinator.NodeID)
	gl, cl := max(15, len(d.Group)), max(25, len(coordinator))
	f := "%-*s %-*s %-25s %-20s %s\n"
	fmt.Fprintf(w, "\n"+f, gl, "GROUP", cl, "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
	fmt.Fprintf(w, f, gl, d.Group, cl, coordinator, d.Protocol, d.State, strconv.Itoa(len(d.Members)))
}

func deleteGroups(e *Env, p *Parsed) error {
	groups, err := groupsOf(e, p)
	if err != nil {
		return err
	}
	ctx, cancel := e.op()
	defer cancel()
	resps, err := e.admin.DeleteGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("delete groups: %w", err)
	}
	var ok, failed []string
	for _, g := range groups {
		if r, found := resps[g]; found && r.Err != nil {
			failed = append(failed, fmt.Sprintf("* Group '%s' could not be deleted due to: %s", g, kafkaException(r.Err)))
		} else {
			ok = append(ok, g)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(e.Stdout, "Deletion of requested consumer groups ('%s') was successful.\n", strings.Join(ok, "', '"))
		return nil
	}
	fmt.Fprintln(e.Stdout, "\nError: Deletion of some consumer groups failed:")
	for _, f := range failed {
		fmt.Fprintln(e.Stdout, f)
	}
	if len(ok) > 0 {
		fmt.Fprintf(e.Stdout, "\nThese consumer groups were deleted successfully: '%s'\n", strings.Join(ok, "', '"))
	}
	return &exitError{code: 1}
}

// kafkaException names a broker error the way Kafka's exceptions print.
func kafkaException(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch ke.Code {
		case kerr.NonEmptyGroup.Code:
			return "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
		case kerr.GroupIDNotFound.Code:
			return "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
		case kerr.OffsetOutOfRange.Code:
			return "org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested offset is not within the range of offsets maintained by the server."
		case kerr.UnknownTopicOrPartition.Code:
			return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition."
		}
		return ke.Message + ": " + ke.Description
	}
	return err.Error()
}

// resetTargets is the set of partitions --reset-offsets acts on.
func resetTargets(e *Env, p *Parsed, committed kadm.OffsetResponses) (map[string][]int32, error) {
	out := map[string][]int32{}
	if p.Has("all-topics") {
		for t, parts := range committed {
			for part := range parts {
				out[t] = append(out[t], part)
			}
		}
		return out, nil
	}
	var whole []string
	for _, spec := range p.Strings("topic") {
		t, parts, hasParts := strings.Cut(spec, ":")
		if !hasParts {
			whole = append(whole, t)
			continue
		}
		for _, s := range strings.Split(parts, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return nil, usagef("--topic %q: partitions must be numbers, as in topic1:0,1,2", spec)
			}
			out[t] = append(out[t], int32(n))
		}
	}
	if len(whole) > 0 {
		ctx, cancel := e.op()
		defer cancel()
		md, err := e.admin.Metadata(ctx, whole...)
		if err != nil {
			return nil, fmt.Errorf("describe topics: %w", err)
		}
		for _, t := range whole {
			td, ok := md.Topics[t]
			if !ok || td.Err != nil {
				return nil, fmt.Errorf("Topic '%s' does not exist", t)
			}
			for part := range td.Partitions {
				out[t] = append(out[t], part)
			}
		}
	}
	return out, nil
}

var durationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration reads Java's Duration.parse format, PnDTnHnMnS.
func parseISODuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, usagef("--by-duration %q: the format is PnDTnHnMnS, e.g. PT1H30M or P1D", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.ParseInt(m[i+1], 10, 64)
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		f, _ := strconv.ParseFloat(m[4], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}

// parseDateTime reads Kafka's --to-datetime format, with an optional zone
// (Z or +hh:mm); without one it is local time.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05.000"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--to-datetime %q: the format is 'YYYY-MM-DDTHH:mm:SS.sss', e.g. 2020-01-01T00:00:00.000", s)
}

func resetOffsets(e *Env, p *Parsed) error {
	if !p.Has("topic") && !p.Has("all-topics") {
		return usagef("Option [reset-offsets] takes one of these options: [all-topics], [topic]")
	}
	scenarios := 0
	for _, s := range []string{"to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration"} {
		if p.Has(s) {
			scenarios++
		}
	}
	if scenarios != 1 {
		return usagef("Option [reset-offsets] takes exactly one of these options: [to-datetime], [by-duration], [to-earliest], [to-latest], [shift-by], [from-file], [to-current], [to-offset]")
	}
	if p.Has("dry-run") && p.Has("execute") {
		return usagef("Option [reset-offsets] only accepts one of [execute], [dry-run]")
	}
	if !p.Has("dry-run") && !p.Has("execute") {
		fmt.Fprintln(e.Stdout, "WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.")
	}
	groups, err := groupsOf(e, p)
	if err != nil {
		return err
	}
	ctx, cancel := e.op()
	defer cancel()
	ds, err := e.admin.DescribeGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("describe groups: %w", err)
	}
	type planned struct {
		group string
		rows  []kadm.Offset
	}
	var plans []planned
	for _, g := range groups {
		if d := ds[g]; d.State != "Empty" && d.State != "Dead" && d.State != "" {
			return fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", g, d.State)
		}
		committed, err := e.admin.FetchOffsets(ctx, g)
		if err != nil {
			return fmt.Errorf("fetch offsets of group %s: %w", g, err)
		}
		targets, err := resetTargets(e, p, committed)
		if err != nil {
			return err
		}
		var topics []string
		for t := range targets {
			topics = append(topics, t)
		}
		starts, err := e.admin.ListStartOffsets(ctx, topics...)
		if err != nil {
			return fmt.Errorf("list start offsets: %w", err)
		}
		ends, err := e.admin.ListEndOffsets(ctx, topics...)
		if err != nil {
			return fmt.Errorf("list end offsets: %w", err)
		}
		var byTime kadm.ListedOffsets
		if p.Has("to-datetime") || p.Has("by-duration") {
			var at time.Time
			if p.Has("to-datetime") {
				at, err = parseDateTime(p.String("to-datetime"))
			} else {
				var d time.Duration
				d, err = parseISODuration(p.String("by-duration"))
				at = time.Now().Add(-d)
			}
			if err != nil {
				return err
			}
			if byTime, err = e.admin.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...); err != nil {
				return fmt.Errorf("list offsets by time: %w", err)
			}
		}
		var rows []kadm.Offset
		for t, parts := range targets {
			for _, part := range parts {
				lo, _ := starts.Lookup(t, part)
				hi, _ := ends.Lookup(t, part)
				if lo.Err != nil || hi.Err != nil {
					return fmt.Errorf("offsets of %s-%d: %v", t, part, errors.Join(lo.Err, hi.Err))
				}
				cur := hi.Offset
				if c, ok := committed.Lookup(t, part); ok && c.Err == nil && c.At >= 0 {
					cur = c.At
				}
				var at int64
				switch {
				case p.Has("to-earliest"):
					at = lo.Offset
				case p.Has("to-latest"):
					at = hi.Offset
				case p.Has("to-current"):
					at = cur
				case p.Has("to-offset"):
					if at, err = p.Int("to-offset", 0); err != nil {
						return err
					}
				case p.Has("shift-by"):
					n, err := p.Int("shift-by", 0)
					if err != nil {
						return err
					}
					at = cur + n
				default:
					at = hi.Offset
					if o, ok := byTime.Lookup(t, part); ok && o.Err == nil && o.Offset >= 0 {
						at = o.Offset
					}
				}
				at = min(max(at, lo.Offset), hi.Offset)
				rows = append(rows, kadm.Offset{Topic: t, Partition: part, At: at, LeaderEpoch: -1})
			}
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Topic != rows[j].Topic {
				return rows[i].Topic < rows[j].Topic
			}
			return rows[i].Partition < rows[j].Partition
		})
		plans = append(plans, planned{g, rows})
	}
	if p.Has("execute") {
		for _, pl := range plans {
			os := kadm.Offsets{}
			for _, o := range pl.rows {
				os.Add(o)
			}
			if err := e.admin.CommitAllOffsets(ctx, pl.group, os); err != nil {
				return fmt.Errorf("commit offsets of group %s: %w", pl.group, err)
			}
		}
	}
	const f = "%-30s %-30s %-10s %-15s\n"
	header := false
	for _, pl := range plans {
		for _, o := range pl.rows {
			if !header {
				fmt.Fprintf(e.Stdout, "\n"+f, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
				header = true
			}
			fmt.Fprintf(e.Stdout, f, pl.group, o.Topic, strconv.Itoa(int(o.Partition)), strconv.FormatInt(o.At, 10))
		}
	}
	return nil
}
