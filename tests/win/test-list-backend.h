/* SPDX-License-Identifier: MPL-2.0 */
/* The Windows backend (the service/ *_win.c files) tested in process, without
 * the service (ctest: win.backend.NAME). */
/* test_backend_sections.c */
SHMB_TEST(grantees_pruned, "robustness")
SHMB_TEST(config_region_keeps_no_grantees, "robustness")
SHMB_TEST(global_region_adopted_if_identical, "security")
SHMB_TEST(global_region_squatted_refused, "security")
SHMB_TEST(process_alive_by_creation_time, "security")
/* test_backend_pipe.c */
SHMB_TEST(pipe_burst_finds_instances, "robustness")
SHMB_TEST(pipe_sddl_create_instance_refused, "security")
SHMB_TEST(identify_refuses_process_newer_than_accept, "security")
SHMB_TEST(reader_ace_without_query_warned, "integration")
/* test_backend_trust.c */
SHMB_TEST(trust_symlink_config_refused, "windows-only")
SHMB_TEST(trust_symlink_folder_refused, "windows-only")
SHMB_TEST(trust_callback_ace_is_a_grant, "security")
SHMB_TEST(log_file_created_private, "windows-only")
SHMB_TEST(trust_judged_as_service_account, "security")
/* test_eventlog.c */
SHMB_TEST(eventlog_messages_format, "integration")
SHMB_TEST(log_file_rotates, "integration")
SHMB_TEST(log_rotate_retries, "integration")
