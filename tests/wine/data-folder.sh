# SPDX-License-Identifier: MPL-2.0
# data-folder.sh - sourced by the installer tests (msi.sh for the MSI,
# install-scripts.sh for install.cmd), after env.sh: both installers make
# %ProgramData%\shmbroker with "shmbroker.exe --init-data", so both check it
# the same way.

# check_data_folder SDDL_OF_EXE: the data folder's owner and DACL as the
# kernel reports them (shmb-sddl-of; Wine's icacls is a stub). Windows keeps
# the descriptor CreateDirectoryW was given: exactly the protected one.
# Wine 8 keeps none and shows one derived from the Unix mode (owner,
# SYSTEM, Everyone); there the check can still see that nobody but SYSTEM,
# Administrators and the owner has any access - a folder made the ordinary
# way (MSI CreateFolder, mkdir) gives Everyone read. Returns 1 with the
# reason on stderr.
check_data_folder() {
    local sd owner others
    sd=$(wine_q "$1" 'C:\ProgramData\shmbroker' | tr -d '\r') || {
        echo "shmb-sddl-of C:\\ProgramData\\shmbroker failed" >&2
        return 1
    }
    echo "data folder: $sd"
    owner=$(sed -n 's/^O:\([^D]*\)D:.*/\1/p' <<<"$sd")
    case "$sd" in
    *"D:P"*)
        if [ "${sd#*D:}" != "P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" ]; then
            echo "data folder DACL is not the protected SYSTEM + Administrators one: $sd" >&2
            return 1
        fi
        ;;
    *)
        others=$(grep -oE ';[^;()]+\)' <<<"${sd#*D:}" | tr -d ';)' | grep -vxE "SY|BA|$owner" || true)
        if [ -n "$others" ]; then
            echo "data folder grants access to $others: $sd" >&2
            return 1
        fi
        echo "data folder: no access for anyone but SYSTEM, Administrators and its owner (Wine cannot show the protected flag)"
        ;;
    esac
}
