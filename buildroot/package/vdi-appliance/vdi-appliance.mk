################################################################################
#
# vdi-appliance
#
################################################################################

# The source is this repository (the tree's parent directory). Buildroot's
# cargo infrastructure builds offline (--offline --locked) and does not vendor
# a local site, so the hook below runs `cargo vendor` into the build copy:
# that one step needs crates.io. Nothing third-party is kept in the repository.
VDI_APPLIANCE_VERSION = 0.1.0
VDI_APPLIANCE_SITE = $(BR2_EXTERNAL_VDI_APPLIANCE_PATH)/..
VDI_APPLIANCE_SITE_METHOD = local
VDI_APPLIANCE_LICENSE = Apache-2.0
VDI_APPLIANCE_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /target --exclude /buildroot
VDI_APPLIANCE_DEPENDENCIES = libvirt host-pkgconf
VDI_APPLIANCE_CARGO_ENV = PKG_CONFIG_ALLOW_CROSS=1

define VDI_APPLIANCE_VENDOR_CRATES
	cd $(@D) && $(HOST_DIR)/bin/cargo vendor --locked --versioned-dirs vendor > $(@D)/.cargo-vendor.toml
	mkdir -p $(@D)/.cargo
	mv $(@D)/.cargo-vendor.toml $(@D)/.cargo/config.toml
endef
VDI_APPLIANCE_POST_RSYNC_HOOKS += VDI_APPLIANCE_VENDOR_CRATES

# The binary, plus what `make install-files` installs on Debian.
define VDI_APPLIANCE_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/target/$(RUSTC_TARGET_NAME)/release/vdi-appliance \
		$(TARGET_DIR)/usr/bin/vdi-appliance
	$(INSTALL) -D -m 0755 $(@D)/systemd/libexec/console-banner \
		$(TARGET_DIR)/usr/lib/vdi-appliance/console-banner
	$(INSTALL) -D -m 0755 $(@D)/systemd/libexec/install-to-disk \
		$(TARGET_DIR)/usr/lib/vdi-appliance/install-to-disk
	$(INSTALL) -D -m 0644 $(@D)/systemd/config.toml \
		$(TARGET_DIR)/etc/vdi-appliance/config.toml
	$(SED) 's#^data_dir = .*#data_dir = "$(call qstrip,$(BR2_PACKAGE_VDI_APPLIANCE_DATA_DIR))"#' \
		-e 's#^networkd_dir = "" *#networkd_dir = "/etc/systemd/network"#' \
		$(TARGET_DIR)/etc/vdi-appliance/config.toml
	$(INSTALL) -D -m 0644 $(@D)/README.md \
		$(TARGET_DIR)/usr/share/doc/vdi-appliance/README.md
endef

define VDI_APPLIANCE_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/systemd/vdi-appliance.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vdi-appliance.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/vdi-appliance-console.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vdi-appliance-console.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/vdi-appliance-firstboot.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vdi-appliance-firstboot.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/vdi-appliance-install.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vdi-appliance-install.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/vdi-appliance.tmpfiles \
		$(TARGET_DIR)/usr/lib/tmpfiles.d/vdi-appliance.conf
	$(INSTALL) -D -m 0644 $(VDI_APPLIANCE_PKGDIR)/50-vdi-appliance.preset \
		$(TARGET_DIR)/usr/lib/systemd/system-preset/50-vdi-appliance.preset
endef

$(eval $(cargo-package))
