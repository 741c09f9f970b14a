package tools

// kafka-consumer-groups.sh (Kafka 2.8's ConsumerGroupCommand): --list,
// --describe (--offsets, --members [--verbose], --state), --delete and
// --reset-offsets, with Kafka's column layouts.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
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
		{Name: "from-file", Arg: "String: path to CSV file", Help: "Reset offsets to values defined in CSV file (topic,partition,offset or group,topic,partition,offset lines)."},
		{Name: "export", Help: "Export operation execution to a CSV format. Supported operations: reset-offsets."},
		{Name: "delete-offsets", Help: "Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics."},
		{Name: "timeout", Arg: "Long: timeout (ms)", Default: "5000", Help: "The timeout that can be set for some use cases."},
	},
	Run: runConsumerGroups,
})

const missing = "-"

func runConsumerGroups(e *Env, p *Parsed) error {
	actions := p.Count("list", "describe", "delete", "reset-offsets", "delete-offsets")
	if actions != 1 {
		return usagef("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
	}
	if err := p.Require("bootstrap-server"); err != nil {
		return err
	}
	if (p.Has("describe") || p.Has("delete") || p.Has("reset-offsets")) && !p.Has("group") && !p.Has("all-groups") {
		return usagef("Option [%s] takes one of these options: [all-groups], [group]", firstOf(p, "describe", "delete", "reset-offsets"))
	}
	if p.Has("delete-offsets") && (len(p.Strings("group")) != 1 || !p.Has("topic")) {
		return usagef("Option [delete-offsets] takes the following options: [topic], [group] (one group)")
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
	case p.Has("delete-offsets"):
		return deleteOffsets(e, p)
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
		// Kafka leaves members without partitions out of this table.
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
	gl, cl, il, hl, ll := max(15, len(d.Group)), 15, 17, 15, 15
	withInstance := false
	instance := func(m kadm.DescribedGroupMember) string {
		if m.InstanceID == nil {
			return ""
		}
		return *m.InstanceID
	}
	for _, m := range d.Members {
		cl, hl, ll = max(cl, len(m.MemberID)), max(hl, len(m.ClientHost)), max(ll, len(m.ClientID))
		il = max(il, len(instance(m)))
		withInstance = withInstance || instance(m) != ""
	}
	if withInstance {
		fmt.Fprintf(w, "\n%-*s %-*s %-*s %-*s %-*s %-15s ", gl, "GROUP", cl, "CONSUMER-ID", il, "GROUP-INSTANCE-ID", hl, "HOST", ll, "CLIENT-ID", "#PARTITIONS")
	} else {
		fmt.Fprintf(w, "\n%-*s %-*s %-*s %-*s %-15s ", gl, "GROUP", cl, "CONSUMER-ID", hl, "HOST", ll, "CLIENT-ID", "#PARTITIONS")
	}
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
		if withInstance {
			fmt.Fprintf(w, "%-*s %-*s %-*s %-*s %-*s %-15d ", gl, d.Group, cl, m.MemberID, il, instance(m), hl, m.ClientHost, ll, m.ClientID, n)
		} else {
			fmt.Fprintf(w, "%-*s %-*s %-*s %-*s %-15d ", gl, d.Group, cl, m.MemberID, hl, m.ClientHost, ll, m.ClientID, n)
		}
		if verbose {
			if len(parts) == 0 {
				fmt.Fprint(w, missing)
			}
			fmt.Fprint(w, strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
}

func printGroupState(w io.Writer, d kadm.DescribedGroup) {
	// Kafka sizes the first column by the coordinator's width.
	coordinator := fmt.Sprintf("%s:%d (%d)", d.Coordinator.Host, d.Coordinator.Port, d.Coordinator.NodeID)
	cl := max(25, len(coordinator))
	f := "\n%-*s %-25s %-20s %-15s %s"
	fmt.Fprintf(w, f, cl, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
	fmt.Fprintf(w, f+"\n", cl, d.Group, coordinator, d.Protocol, d.State, strconv.Itoa(len(d.Members)))
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
	if !p.Has("topic") && !p.Has("all-topics") && !p.Has("from-file") {
		return usagef("One of the reset scopes should be defined: --all-topics, --topic.")
	}
	scenarios := p.Count("to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration", "from-file")
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
	var fromFile map[string]map[topicPartition]int64
	if p.Has("from-file") {
		if fromFile, err = readResetPlan(p.String("from-file"), groups); err != nil {
			return err
		}
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
		var targets map[string][]int32
		if fromFile != nil {
			targets = map[string][]int32{}
			for tp := range fromFile[g] {
				targets[tp.Topic] = append(targets[tp.Topic], tp.Partition)
			}
			if len(targets) == 0 {
				fmt.Fprintf(e.Stdout, "\nError: No reset plan for group %s found\n", g)
			}
		} else if targets, err = resetTargets(e, p, committed); err != nil {
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
				cur, hasCur := hi.Offset, false
				if c, ok := committed.Lookup(t, part); ok && c.Err == nil && c.At >= 0 {
					cur, hasCur = c.At, true
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
				case fromFile != nil:
					at = fromFile[g][topicPartition{t, part}]
				case p.Has("shift-by"):
					n, err := p.Int("shift-by", 0)
					if err != nil {
						return err
					}
					if !hasCur {
						return fmt.Errorf("Cannot shift offset for partition %s-%d since there is no current committed offset", t, part)
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
			offs := kadm.Offsets{}
			for _, o := range pl.rows {
				offs.Add(o)
			}
			if err := e.admin.CommitAllOffsets(ctx, pl.group, offs); err != nil {
				return fmt.Errorf("commit offsets of group %s: %w", pl.group, err)
			}
		}
	}
	if p.Has("export") {
		// Kafka's CSV: topic,partition,offset for one group, with the
		// group first for several.
		for _, pl := range plans {
			for _, o := range pl.rows {
				if len(groups) > 1 {
					fmt.Fprintf(e.Stdout, "%s,", pl.group)
				}
				fmt.Fprintf(e.Stdout, "%s,%d,%d\n", o.Topic, o.Partition, o.At)
			}
		}
		fmt.Fprintln(e.Stdout)
		return nil
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

// readResetPlan reads --from-file: "topic,partition,offset" lines for one
// group, or "group,topic,partition,offset".
func readResetPlan(path string, groups []string) (map[string]map[topicPartition]int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read --from-file %s: %w", path, err)
	}
	out := map[string]map[topicPartition]int64{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		group := ""
		switch {
		case len(f) == 3 && len(groups) == 1:
			group = groups[0]
		case len(f) == 4:
			group, f = f[0], f[1:]
		default:
			return nil, fmt.Errorf("%s line %d: %q is not topic,partition,offset (or group,topic,partition,offset)", path, i+1, line)
		}
		part, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s line %d: %q: partition and offset must be numbers", path, i+1, line)
		}
		if out[group] == nil {
			out[group] = map[topicPartition]int64{}
		}
		out[group][topicPartition{f[0], int32(part)}] = off
	}
	return out, nil
}

// deleteOffsets is --delete-offsets: OffsetDelete for the group's
// committed offsets of the given topics (topic or topic:0,1).
func deleteOffsets(e *Env, p *Parsed) error {
	group := p.Strings("group")[0]
	var whole []string
	var tps []topicPartition
	for _, spec := range p.Strings("topic") {
		t, parts, ok := strings.Cut(spec, ":")
		if !ok {
			whole = append(whole, t)
			continue
		}
		for _, s := range strings.Split(parts, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return usagef("--topic %q: partitions must be numbers, as in topic1:0,1,2", spec)
			}
			tps = append(tps, topicPartition{t, int32(n)})
		}
	}
	ctx, cancel := e.op()
	defer cancel()
	results := map[topicPartition]string{}
	if len(whole) > 0 {
		md, err := e.admin.Metadata(ctx, whole...)
		if err != nil {
			return fmt.Errorf("describe topics: %w", err)
		}
		for _, t := range whole {
			td, ok := md.Topics[t]
			if !ok || td.Err != nil {
				results[topicPartition{t, -1}] = "Error: This server does not host this topic-partition."
				continue
			}
			for part := range td.Partitions {
				tps = append(tps, topicPartition{t, part})
			}
		}
	}
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = group
	for t, parts := range byTopic(tps) {
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = t
		for _, part := range parts {
			rp := kmsg.NewOffsetDeleteRequestTopicPartition()
			rp.Partition = part
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		return fmt.Errorf("delete offsets: %w", err)
	}
	top := kerr.ErrorForCode(resp.ErrorCode)
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			status := "Successful"
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				status = "Error: " + kerrDescription(err)
				if top == nil {
					top = err
				}
			}
			results[topicPartition{rt.Topic, rp.Partition}] = status
		}
	}
	switch {
	case top == nil:
		fmt.Fprintf(e.Stdout, "Request succeed for deleting offsets with topic %s group %s\n", strings.Join(p.Strings("topic"), ", "), group)
	case errors.Is(top, kerr.GroupIDNotFound):
		fmt.Fprintf(e.Stdout, "\nError: '%s' does not exist.\n", group)
	case errors.Is(top, kerr.NonEmptyGroup):
		fmt.Fprintf(e.Stdout, "\nError: Deleting offsets of a consumer group '%s' is forbidden if the group is not empty.\n", group)
	case errors.Is(top, kerr.GroupSubscribedToTopic), errors.Is(top, kerr.UnknownTopicOrPartition):
		fmt.Fprintln(e.Stdout, "\nError: Encounter some partition level error, see the follow-up details:")
	default:
		fmt.Fprintf(e.Stdout, "\nError: Encounter some unknown error: %v\n", top)
	}
	keys := make([]topicPartition, 0, len(results))
	for tp := range results {
		keys = append(keys, tp)
	}
	sortTPs(keys)
	fmt.Fprintf(e.Stdout, "\n%-30s %-15s %-15s\n", "TOPIC", "PARTITION", "STATUS")
	for _, tp := range keys {
		part := strconv.Itoa(int(tp.Partition))
		if tp.Partition < 0 {
			part = "Not Provided"
		}
		fmt.Fprintf(e.Stdout, "%-30s %-15s %-15s\n", tp.Topic, part, results[tp])
	}
	if top != nil {
		return &exitError{code: 1}
	}
	return nil
}

// kerrDescription is the sentence Kafka's exception messages carry.
func kerrDescription(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Description
	}
	return err.Error()
}
