package vfs_test

import (
	"fmt"
	"os"
	"syscall"

	"github.com/stratalog/strata/vfs"
)

// A write is durable once the file is synced and its name once its directory is.
func ExampleCrashableFS_Crash() {
	fsys := vfs.NewCrashable()
	f, _ := fsys.OpenFile("/wal", os.O_RDWR|os.O_CREATE, 0o644)
	f.WriteAt([]byte("acknowledged;"), 0)
	f.Sync()
	fsys.SyncDir("/")
	f.WriteAt([]byte("in flight"), 13)

	after := fsys.Crash(vfs.DropUnsynced, 1)
	data, _ := vfs.ReadFile(after, "/wal")
	fmt.Printf("%q\n", data)
	// Output: "acknowledged;"
}

// A Switch lets setup succeed and then makes the disk full.
func ExampleSwitch() {
	var faults vfs.Switch
	fsys := vfs.NewFaulty(vfs.NewMem(), faults.Inject)
	f, _ := fsys.OpenFile("segment.log", os.O_RDWR|os.O_CREATE, 0o644)
	defer f.Close()

	faults.Set(vfs.FailOp(vfs.OpWrite, syscall.ENOSPC))
	_, err := f.WriteAt([]byte("batch"), 0)
	fmt.Println(err)
	// Output: write segment.log: no space left on device
}
