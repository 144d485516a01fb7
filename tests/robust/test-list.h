/* SPDX-License-Identifier: MPL-2.0 */
/* The robustness scenarios (robust.c, docs/robustness.md), run against the
 * shmb-robust instance in this order by ctest. */
SHMB_TEST(leak_check_detects, "robustness")
SHMB_TEST(killed_clients, "robustness")
SHMB_TEST(crowd, "robustness")
SHMB_TEST(stalled_clients, "robustness")
SHMB_TEST(service_stopped, "robustness")
SHMB_TEST(service_killed, "robustness")
