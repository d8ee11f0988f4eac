from __future__ import annotations

from urllib.parse import urlsplit

from django import forms


class WebsiteForm(forms.Form):
    url = forms.URLField(
        label="Website address",
        max_length=500,
        assume_scheme="https",
        help_text="The public address of your site, e.g. https://www.example.com",
    )
    health_path = forms.CharField(
        label="Page to check",
        max_length=200,
        initial="/",
        help_text="A path on your site that should always work, e.g. / or /contact",
    )
    expected_status = forms.IntegerField(
        label="Expected status", min_value=100, max_value=599, initial=200
    )
    keyword = forms.CharField(
        label="Text the page must contain",
        max_length=200,
        required=False,
        help_text="Optional: a word or phrase that shows the page is really yours.",
    )
    wp_user = forms.CharField(
        label="WordPress user name",
        max_length=150,
        required=False,
        help_text="Optional: lets your agents read and draft posts and pages.",
    )
    wp_app_password = forms.CharField(
        label="WordPress application password",
        max_length=200,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Create one under Users → Profile → Application Passwords. Stored "
        "encrypted and never shown again; leave blank to keep the saved one (same user and "
        "address).",
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise forms.ValidationError("Only http:// and https:// addresses can be used.")
        if parts.username or parts.password:
            raise forms.ValidationError("Leave the user name and password out of the address.")
        if parts.query or parts.fragment:
            raise forms.ValidationError("Enter the site's address without ? or # parts.")
        return url.rstrip("/")

    def clean_health_path(self) -> str:
        path = self.cleaned_data["health_path"].strip()
        if not path.startswith("/") or path.startswith("//") or any(c.isspace() for c in path):
            raise forms.ValidationError("Enter a path on your site that starts with /.")
        return path

    def clean(self) -> dict:
        data = super().clean()
        if data.get("wp_app_password") and not data.get("wp_user"):
            self.add_error("wp_user", "Enter the WordPress user name for this password.")
        return data
