package clientsetup

import (
	"errors"
	"os"

	"github.com/agentvault/agentvault/internal/configedit"
)

// backupSuffix marks the whole-file copy that earlier AgentVaults took
// before their first edit of a config file, instead of recording the edit;
// absentMarker is its content when there was no file.
const (
	backupSuffix = ".agentvault-backup"
	absentMarker = "agentvault: this file did not exist\n"
)

// RetireBackup undoes what an earlier AgentVault wrote to the file at path
// when it kept a backup of the whole file: it takes out the entries that
// reach AgentVault and were not in the backup, keeping everything else
// changed since, then deletes the backup (and the file, if AgentVault
// created it and it holds nothing else). It returns the entries it took
// out, and false when there was no backup.
func (c Client) RetireBackup(path string) (removed []string, found bool, err error) {
	orig, err := os.ReadFile(path + backupSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	created := string(orig) == absentMarker
	if created {
		orig = nil
	}
	before, err := configedit.Parse(orig, c.format)
	if err != nil {
		return nil, true, err
	}
	doc, err := configedit.Load(path, c.format)
	if err != nil {
		return nil, true, err
	}
	for _, pl := range c.places(Places{}) {
		pl.Path = path
		servers, _ := serversAt(doc, pl)
		for _, s := range servers {
			if _, had := before.Entry(s.Key); !had && s.ThroughAgentVault() {
				if _, err := doc.Remove(s.Key); err != nil {
					return removed, true, err
				}
				removed = append(removed, s.Name)
			}
		}
	}
	switch {
	case created && doc.Empty():
		err = os.Remove(path)
	case len(removed) > 0:
		err = doc.Save(path)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return removed, true, err
	}
	return removed, true, os.Remove(path + backupSuffix)
}
