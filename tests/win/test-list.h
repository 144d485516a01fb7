/* SPDX-License-Identifier: MPL-2.0 */
/* Integration tests through the installed service (ctest: win.NAME),
 * grouped by the file that holds them. */
/* test_regions.c */
SHMB_TEST(hello_and_ping, "integration")
SHMB_TEST(share_bytes_between_processes, "integration")
SHMB_TEST(client_region_freed_with_last_holder, "integration")
SHMB_TEST(persistent_region_outlives_creator, "integration")
SHMB_TEST(release_and_delete, "integration")
SHMB_TEST(list_and_stat, "integration")
SHMB_TEST(client_dies_holding_region, "robustness")
SHMB_TEST(config_regions, "integration")
SHMB_TEST(config_region_doorbells, "integration")
/* test_grants.c */
SHMB_TEST(readonly_grant_write_refused, "integration")
SHMB_TEST(grant_access_masks_exact, "security")
SHMB_TEST(readonly_grant_cannot_escalate, "security")
SHMB_TEST(grant_cannot_take_write_dac, "windows-only")
SHMB_TEST(doorbells_follow_grant_access, "security")
SHMB_TEST(doorbells_across_processes, "security")
SHMB_TEST(undelivered_grant_closed_in_client, "security")
SHMB_TEST(unnamed_section_has_no_name, "security")
/* test_protocol.c */
SHMB_TEST(error_codes, "integration")
SHMB_TEST(oversized_frame_closes_connection, "robustness")
SHMB_TEST(client_dies_mid_frame, "robustness")
/* test_connections.c */
SHMB_TEST(many_connections, "robustness")
SHMB_TEST(max_clients_enforced, "robustness")
SHMB_TEST(flood_without_reading, "robustness")
/* test_policy_rules.c */
SHMB_TEST(policy_denials_explain, "integration")
SHMB_TEST(policy_group_rule_restricted_token, "integration")
SHMB_TEST(policy_image_rule, "integration")
SHMB_TEST(policy_session_integrity_appcontainer, "integration")
SHMB_TEST(policy_user_namespace, "integration")
SHMB_TEST(low_integrity_client, "windows-only")
SHMB_TEST(appcontainer_client, "windows-only")
/* test_quotas.c */
SHMB_TEST(quota_regions_per_client, "integration")
SHMB_TEST(quota_commit_per_client_and_user, "integration")
/* test_server_trust.c */
SHMB_TEST(client_verifies_server, "security")
SHMB_TEST(client_refuses_fake_server, "security")
SHMB_TEST(client_drops_desynced_connection, "security")
/* test_descriptors.c */
SHMB_TEST(named_regions_dacl, "security")
SHMB_TEST(pipe_descriptor_applied, "security")
SHMB_TEST(named_section_descriptor_applied, "security")
SHMB_TEST(pipe_dacl_denies_user, "windows-only")
SHMB_TEST(pipe_squat_refused, "windows-only")
SHMB_TEST(named_region_deny_ace_deny_only_group, "windows-only")
/* test_handoff.c */
SHMB_TEST(handoff_inherit_handle_list, "integration")
SHMB_TEST(handoff_duplicate_into_child, "integration")
SHMB_TEST(handoff_revoke_undelivered, "integration")
SHMB_TEST(handoff_readonly_parent_refused, "security")
SHMB_TEST(handoff_malformed_refused, "security")
/* test_reconnect.c (threads; the restart itself is in
 * test-list-reconnect.h, on its own service instance) */
SHMB_TEST(threads_share_one_client, "robustness")
SHMB_TEST(threads_connect_at_once_service_trust, "robustness")
/* test_shmbctl.c */
SHMB_TEST(shmbctl_help_and_usage, "integration")
SHMB_TEST(shmbctl_commands, "integration")
SHMB_TEST(shmbctl_status_and_stats, "integration")
