/* SPDX-License-Identifier: MPL-2.0 */
/* acl_show.c - prints a file's or folder's owner and DACL as the kernel
 * stores them, one line per fact, for the install script tests (Wine's
 * icacls is a stub and cannot show an ACL):
 *
 *   owner S-1-5-32-544
 *   protected yes|no
 *   allow|deny SID 0xMASK flags 0xFLAGS
 *
 * Exit 0, or 1 with the Win32 error on stderr. */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>

static void print_sid(const char *prefix, PSID sid)
{
    char *text = NULL;
    if (sid != NULL && ConvertSidToStringSidA(sid, &text)) {
        printf("%s%s", prefix, text);
        LocalFree(text);
    } else {
        printf("%s?", prefix);
    }
}

static void print_ace(const ACE_HEADER *h)
{
    /* Allowed and denied ACEs share a layout: header, mask, SID. */
    const ACCESS_ALLOWED_ACE *a = (const ACCESS_ALLOWED_ACE *)h;
    if (h->AceType == ACCESS_ALLOWED_ACE_TYPE)
        print_sid("allow ", (PSID)&a->SidStart);
    else if (h->AceType == ACCESS_DENIED_ACE_TYPE)
        print_sid("deny ", (PSID)&a->SidStart);
    else {
        printf("type%u ?", h->AceType);
    }
    printf(" 0x%lx flags 0x%x\n", (unsigned long)a->Mask, h->AceFlags);
}

int main(int argc, char **argv)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    PACL dacl = NULL;
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD rev = 0, err;
    WORD i;

    if (argc != 2) {
        fprintf(stderr, "usage: acl_show PATH\n");
        return 2;
    }
    err = GetNamedSecurityInfoA(argv[1], SE_FILE_OBJECT,
                                OWNER_SECURITY_INFORMATION |
                                    DACL_SECURITY_INFORMATION,
                                &owner, NULL, &dacl, NULL, &sd);
    if (err != ERROR_SUCCESS) {
        fprintf(stderr, "acl_show: %s: error %lu\n", argv[1],
                (unsigned long)err);
        return 1;
    }
    print_sid("owner ", owner);
    GetSecurityDescriptorControl(sd, &control, &rev);
    printf("\nprotected %s\n", (control & SE_DACL_PROTECTED) ? "yes" : "no");
    if (dacl == NULL)
        printf("null-dacl\n");
    for (i = 0; dacl != NULL && i < dacl->AceCount; i++) {
        void *ace = NULL;
        if (GetAce(dacl, i, &ace))
            print_ace((const ACE_HEADER *)ace);
    }
    LocalFree(sd);
    return 0;
}
