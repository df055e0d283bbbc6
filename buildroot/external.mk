include $(sort $(wildcard $(BR2_EXTERNAL_VDI_APPLIANCE_PATH)/package/*/*.mk))
