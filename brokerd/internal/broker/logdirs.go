package broker

// The log.dirs entries' meta.properties files: every directory of one
// broker names the same broker.id and cluster.id (Kafka 2.8's
// BrokerMetadataCheckpoint across log.dirs); a directory without one
// (new, or never used) gets it once the cluster id is agreed.

import (
	"fmt"
	"path/filepath"
	"time"

	"mqstack/storage/checkpoint"
)

// dirMeta is what the log dirs' meta.properties files say.
type dirMeta struct {
	brokerID  int32    // -1 when no directory has meta.properties
	clusterID string   // "" when none names a cluster
	idFile    string   // the meta.properties that gave brokerID
	cidFiles  []string // the meta.properties files naming clusterID
	missing   []string
}

// readDirMetas reads every log dir's meta.properties and checks that they
// agree with each other and with broker.id (when it is set).
func (b *Broker) readDirMetas() (dirMeta, error) {
	dm := dirMeta{brokerID: -1}
	for _, dir := range b.cfg.LogDirs {
		file := filepath.Join(dir, checkpoint.MetaPropertiesFile)
		if st, err := b.fs.Stat(dir); err == nil && !st.IsDir() {
			return dm, fmt.Errorf("%w: %s is not a directory; fix log.dirs in %s", ErrLogDir, dir, b.cfg.Path)
		}
		meta, ok, err := checkpoint.ReadMeta(b.fs, dir)
		if err != nil {
			return dm, fmt.Errorf("%w: %s: %w (check log.dirs in %s)", ErrLogDir, dir, err, b.cfg.Path)
		}
		if !ok {
			dm.missing = append(dm.missing, dir)
			continue
		}
		switch {
		case b.cfg.BrokerID >= 0 && meta.BrokerID != b.cfg.BrokerID:
			return dm, fmt.Errorf("%w: %s has broker.id=%d but %s sets broker.id=%d; use the right log.dirs or broker.id",
				ErrLogDir, file, meta.BrokerID, b.cfg.Path, b.cfg.BrokerID)
		case dm.idFile != "" && meta.BrokerID != dm.brokerID:
			return dm, fmt.Errorf("%w: %s has broker.id=%d but %s has broker.id=%d: the directories in log.dirs belong to different brokers; "+
				"list only this broker's directories in log.dirs in %s", ErrLogDir, file, meta.BrokerID, dm.idFile, dm.brokerID, b.cfg.Path)
		case dm.idFile == "":
			dm.brokerID, dm.idFile = meta.BrokerID, file
		}
		if meta.ClusterID == "" {
			continue
		}
		if len(dm.cidFiles) > 0 && meta.ClusterID != dm.clusterID {
			return dm, fmt.Errorf("%w: %s has cluster.id=%s but %s has cluster.id=%s: the directories in log.dirs belong to different clusters; "+
				"list only this cluster's directories in log.dirs in %s", ErrLogDir, file, meta.ClusterID, dm.cidFiles[0], dm.clusterID, b.cfg.Path)
		}
		dm.clusterID, dm.cidFiles = meta.ClusterID, append(dm.cidFiles, file)
	}
	return dm, nil
}

// writeMissingMetas writes meta.properties into the log dirs without one.
func (b *Broker) writeMissingMetas(dm dirMeta) error {
	for _, dir := range dm.missing {
		m := checkpoint.Meta{Version: 0, BrokerID: b.cfg.BrokerID, ClusterID: b.clusterID}
		if err := checkpoint.WriteMeta(b.fs, dir, m, time.Now().String()); err != nil {
			return fmt.Errorf("%w: write %s: %w (check log.dirs in %s)", ErrLogDir, filepath.Join(dir, checkpoint.MetaPropertiesFile), err, b.cfg.Path)
		}
	}
	return nil
}
