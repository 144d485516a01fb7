/* SPDX-License-Identifier: MPL-2.0 */
/* Tests against the second instance with tiny limits (win.quota.NAME). */
/* test_quotas.c */
SHMB_TEST(quota_commit_total, "integration")
SHMB_TEST(quota_max_regions, "integration")
SHMB_TEST(quota_counts_mapped_released_regions, "security")
