package tools

// kafka-delete-records.sh (Kafka 2.8's DeleteRecordsCommand): moves the
// log start offset of the partitions in --offset-json-file.

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
)

var _ = register(&Tool{
	Name:    "delete-records",
	Summary: "This tool helps to delete records of the given partitions down to the specified offset.",
	Opts: []Opt{
		optBootstrap, optCmdConfig,
		{Name: "offset-json-file", Arg: "String: Offset json file path", Help: "REQUIRED: The JSON file with offset per partition. The format to use is:\n{\"partitions\":\n  [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}],\n \"version\":1\n}"},
	},
	Run: runDeleteRecords,
})

func runDeleteRecords(e *Env, p *Parsed) error {
	if err := p.Require("bootstrap-server", "offset-json-file"); err != nil {
		return err
	}
	data, err := os.ReadFile(p.String("offset-json-file"))
	if err != nil {
		return fmt.Errorf("cannot read --offset-json-file: %w", err)
	}
	var doc struct {
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
			Offset    *int64  `json:"offset"`
		} `json:"partitions"`
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("The JSON file %s is malformed: %v", p.String("offset-json-file"), err)
	}
	offs := kadm.Offsets{}
	seen := map[string]bool{}
	for _, pt := range doc.Partitions {
		if pt.Topic == nil || pt.Partition == nil || pt.Offset == nil {
			return fmt.Errorf("The JSON file %s is malformed: each partition needs topic, partition and offset", p.String("offset-json-file"))
		}
		k := fmt.Sprintf("%s-%d", *pt.Topic, *pt.Partition)
		if seen[k] {
			return fmt.Errorf("Offset json file contains duplicate topic partitions: %s", k)
		}
		seen[k] = true
		offs.Add(kadm.Offset{Topic: *pt.Topic, Partition: *pt.Partition, At: *pt.Offset, LeaderEpoch: -1})
	}
	if len(offs) == 0 {
		return fmt.Errorf("The JSON file %s names no partitions", p.String("offset-json-file"))
	}
	if _, err := loadProps(p.String("command-config")); err != nil {
		return err
	}
	if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, "Executing records delete operation")
	ctx, cancel := e.op()
	defer cancel()
	resps, err := e.admin.DeleteRecords(ctx, offs)
	if err != nil {
		return fmt.Errorf("delete records: %w", err)
	}
	fmt.Fprintln(e.Stdout, "Records delete operation completed:")
	var rows []kadm.DeleteRecordsResponse
	resps.Each(func(r kadm.DeleteRecordsResponse) { rows = append(rows, r) })
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Topic != rows[j].Topic {
			return rows[i].Topic < rows[j].Topic
		}
		return rows[i].Partition < rows[j].Partition
	})
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(e.Stdout, "partition: %s-%d\terror: %s\n", r.Topic, r.Partition, kafkaException(r.Err))
			continue
		}
		fmt.Fprintf(e.Stdout, "partition: %s-%d\tlow_watermark: %d\n", r.Topic, r.Partition, r.LowWatermark)
	}
	return nil
}
