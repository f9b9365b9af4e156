"""System packages Odoo needs beside Python: wkhtmltopdf (and fonts), Chromium.

Odoo renders PDF reports with ``wkhtmltopdf``.  Confirming a paid webshop
order sends the confirmation mail with the order as a PDF: without the tool
the payment ends in *Unable to find Wkhtmltopdf* and the order stays a
quotation, so no app is created.  ``make run`` therefore installs it with
Debian's apt where it can, and otherwise stops before serving such a shop.
Chromium runs Odoo's browser tours (``make test``).
"""

import os
import shutil
import subprocess

from dev.bootstrap import fail, say

WKHTMLTOPDF_PACKAGES = ["wkhtmltopdf", "fonts-dejavu-core"]
CHROMIUM_PACKAGES = ["chromium"]
#: Set to 1 to serve without wkhtmltopdf (paid orders cannot be confirmed).
NO_PDF = "MINTCLOUD_WITHOUT_WKHTMLTOPDF"

_apt_updated = False


def can_apt():
    """apt-get is there and we may use it (root, or sudo without a password)."""
    if shutil.which("apt-get") is None:
        return False
    if os.geteuid() == 0:
        return True
    return (
        shutil.which("sudo") is not None
        and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    )


def apt_install(packages):
    """Install Debian packages; True when they installed."""
    global _apt_updated
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=False)
        _apt_updated = True
    cmd = [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    return subprocess.run([*cmd, *packages], env=env).returncode == 0


def ensure_wkhtmltopdf():
    """wkhtmltopdf on PATH, installed with apt where possible; else stop."""
    if shutil.which("wkhtmltopdf"):
        return True
    if can_apt():
        say(
            "installing wkhtmltopdf and fonts with apt-get (Odoo renders the "
            "order confirmation as a PDF)"
        )
        if apt_install(WKHTMLTOPDF_PACKAGES) and shutil.which("wkhtmltopdf"):
            return True
    if os.environ.get(NO_PDF) == "1":
        say(f"wkhtmltopdf is missing; serving anyway because {NO_PDF}=1")
        return False
    fail(
        "wkhtmltopdf is not installed, and apt-get could not install it.\n"
        "Odoo renders the order confirmation as a PDF when a payment is\n"
        "confirmed; without wkhtmltopdf paid orders stay quotations and no app\n"
        "is created.  Install it (Debian/Ubuntu: apt-get install wkhtmltopdf;\n"
        "elsewhere: https://wkhtmltopdf.org/downloads.html), or set\n"
        f"{NO_PDF}=1 to serve without it."
    )


def browser():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def ensure_chromium():
    """Chromium for Odoo's tours, installed with apt where possible."""
    if browser():
        return True
    if can_apt():
        say("installing Debian's chromium for Odoo's browser tours")
        apt_install(CHROMIUM_PACKAGES)
    if not browser():
        say("no Chromium found: Odoo will skip its browser tours")
        return False
    return True
