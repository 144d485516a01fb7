/* SPDX-License-Identifier: MPL-2.0 */
/* Tests that stop and start their own service instance, shmb-reconnect
 * (ctest: win.reconnect.NAME). */
/* test_reconnect.c */
SHMB_TEST(reconnect_after_service_restart, "integration")
SHMB_TEST(reconnect_while_service_down, "integration")
