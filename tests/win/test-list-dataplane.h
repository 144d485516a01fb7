/* SPDX-License-Identifier: MPL-2.0 */
/* The data plane across two processes through the installed service
 * (ctest: win.NAME). */
/* test_dataplane.c */
SHMB_TEST(dp_ring_order_across_processes, "integration")
SHMB_TEST(dp_ring_full_blocks_producer, "integration")
SHMB_TEST(dp_ring_consumer_never_reads, "robustness")
SHMB_TEST(dp_ring_producer_dies_mid_record, "robustness")
SHMB_TEST(dp_ring_hostile_peer, "security")
SHMB_TEST(dp_snapshot_hostile_writer, "security")
SHMB_TEST(dp_snapshot_readers_across_processes, "integration")
